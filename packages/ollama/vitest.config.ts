import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@flexiai/ollama",
    include: ["test/**/*.test.ts"]
  }
})
