// Writes flexiai.schema.json from the Effect Schema (FlexiConfig.jsonSchema()); a test checks it is current.
import { writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { jsonSchema } from "../src/FlexiConfig.ts"

const target = fileURLToPath(new URL("../flexiai.schema.json", import.meta.url))
writeFileSync(target, `${JSON.stringify(jsonSchema(), null, 2)}\n`)
console.log(`wrote ${target}`)
