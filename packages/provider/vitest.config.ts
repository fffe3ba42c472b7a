import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@flexiai/provider",
    include: ["test/**/*.test.ts"],
    benchmark: { include: ["bench/**/*.bench.ts"] }
  }
})
