import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@flexiai/redis",
    include: ["test/**/*.test.ts"],
    // each file starts its own redis-server; the multi-process tests also start node processes
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
