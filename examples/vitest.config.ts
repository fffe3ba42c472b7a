// The examples as a Vitest project: runs the demo end to end (real sockets on 127.0.0.1, fast timings).
import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@flexiai/examples",
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000
  }
})
