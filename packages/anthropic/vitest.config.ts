import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@flexiai/anthropic",
    include: ["test/**/*.test.ts"]
  }
})
