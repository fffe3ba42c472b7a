// The pack test as its own Vitest project (part of `pnpm test`, so CI's summary line counts it):
// one file, its steps in order, generous timeouts for pnpm and tsc on a busy machine.
import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "pack",
    include: ["test/**/*.test.ts"],
    testTimeout: 240_000,
    hookTimeout: 60_000
  }
})
