import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@flexiai/config",
    include: ["test/**/*.test.ts"]
  }
})
