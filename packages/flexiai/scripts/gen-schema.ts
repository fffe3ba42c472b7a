// Writes what flexiai commits from its bundled provider descriptors: flexiai.schema.json (the
// config's JSON Schema) and examples/flexiai.config.yaml (the annotated example config). A test
// (test/BundledKinds.test.ts) fails when either is stale.
import { writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { exampleConfig, jsonSchema } from "../src/Providers.ts"

const write = (relative: string, text: string) => {
  const target = fileURLToPath(new URL(relative, import.meta.url))
  writeFileSync(target, text)
  console.log(`wrote ${target}`)
}
write("../flexiai.schema.json", `${JSON.stringify(jsonSchema(), null, 2)}\n`)
write("../../../examples/flexiai.config.yaml", exampleConfig("../packages/flexiai/flexiai.schema.json"))
