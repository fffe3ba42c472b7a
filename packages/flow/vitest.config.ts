import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@flexiai/flow",
    include: ["test/**/*.test.ts"]
  }
})
