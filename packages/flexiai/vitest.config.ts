import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "flexiai",
    include: ["test/**/*.test.ts"]
  }
})
