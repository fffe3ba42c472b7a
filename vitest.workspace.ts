// The config `pnpm test` passes to Vitest: one project per package, plus the examples and the pack test (Vitest 5 reads no workspace file by itself).
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    projects: ["packages/*", "examples", "packaging"]
  }
})
