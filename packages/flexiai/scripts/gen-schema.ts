// Writes flexiai.schema.json, the config's JSON Schema for the bundled provider descriptors
// (FlexiConfig.jsonSchema({ providers: Providers.bundled })); a test checks it is current.
import { FlexiConfig } from "@flexiai/config"
import { writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { bundled } from "../src/Providers.ts"

const target = fileURLToPath(new URL("../flexiai.schema.json", import.meta.url))
writeFileSync(target, `${JSON.stringify(FlexiConfig.jsonSchema({ providers: bundled }), null, 2)}\n`)
console.log(`wrote ${target}`)
