/**
 * @flexiai/config: FlexiAI's configuration — a schema-validated config merged from code, the
 * environment (`FLEXIAI_*` and the providers' standard variables) and a JSON/YAML file, with
 * secret references (`env:`, `file:`, `keychain:`) resolved into `Redacted` values.
 *
 * A package of its own, not part of core, because the keychain needs a native binding and core
 * imports `effect` only.
 *
 * @since 0.1.0
 */
export * as ConfigExample from "./ConfigExample.ts"
export * as ConfigFile from "./ConfigFile.ts"
export * as ConfigSchema from "./ConfigSchema.ts"
export * as Environment from "./Environment.ts"
export * as FlexiConfig from "./FlexiConfig.ts"
export { FlexiConfigError } from "./FlexiConfigError.ts"
export * as Presets from "./Presets.ts"
export * as Registry from "./Registry.ts"
export * as Secrets from "./Secrets.ts"
