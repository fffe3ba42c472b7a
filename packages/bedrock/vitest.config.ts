import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@flexiai/bedrock",
    include: ["test/**/*.test.ts"],
    benchmark: { include: ["bench/**/*.bench.ts"] }
  }
})
