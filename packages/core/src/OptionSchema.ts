/**
 * Options described once, as Effect Schemas. The router policy (`RouterPolicy`) and the circuit
 * breaker's options (`CircuitBreaker`) are each one Schema with every field filled in, whose encoded
 * side is the config-file form and whose leaves carry their description and default as
 * annotations. Everything else is derived from it: the optional form a config file takes (and its
 * JSON Schema, descriptions and defaults included), the `FLEXIAI_*` variables `@flexiai/config`
 * finds by walking the schema, the type code passes (`Input`, durations as any `Duration.Input`),
 * the defaults (`defaultsOf`) and filling a partial value in (`fill`).
 *
 * What users get wrong: a duration in a config is a number of *milliseconds* or a number and a unit
 * (`"5 seconds"`); a bare `"5"` is not a duration. In code any `Duration.Input` works.
 *
 * @since 0.2.0
 */
import { Duration as Dur, Schema, SchemaAST, SchemaTransformation } from "effect"

// ---------------------------------------------------------------------------
// Durations
// ---------------------------------------------------------------------------

/** `Duration.fromInput`'s string form, without negative values. */
const DURATION_PATTERN = /^\d+(?:\.\d+)?\s+(?:nanos?|micros?|millis?|seconds?|minutes?|hours?|days?|weeks?)$/u

/**
 * The message every duration field reports, so one bad value yields one line, not one per union member.
 *
 * @category schemas
 */
export const durationExpected = "a duration (milliseconds, or a string such as \"5 seconds\" or \"500 millis\")"

const durationHelp = "Milliseconds, or a number and a unit: \"500 millis\", \"5 seconds\", \"2 minutes\"."

// Annotations go on the encoded side: that is the side the JSON Schema describes.
const durationWith = (annotations: Schema.Annotations.Documentation<number | string>) =>
  Schema.Union([
    Schema.Number.check(Schema.isFinite(), Schema.isGreaterThanOrEqualTo(0)),
    Schema.String.check(Schema.isPattern(DURATION_PATTERN))
  ]).annotate({ expected: durationExpected, ...annotations }).pipe(
    Schema.decodeTo(
      Schema.Duration,
      SchemaTransformation.transform<Dur.Duration, number | string>({
        decode: (input: number | string) => Dur.fromInputUnsafe(input as Dur.Input),
        encode: (duration: Dur.Duration) => Dur.toMillis(duration)
      })
    )
  )

/**
 * A duration as written in config: milliseconds, or a string such as `"5 seconds"` / `"500 millis"`.
 *
 * @category schemas
 */
export const Duration = durationWith({ description: durationHelp })

/**
 * Whether a schema decodes to a `Duration` (its leaf is a duration option; config reads its
 * variable as one).
 *
 * @category guards
 */
export const isDuration = (ast: SchemaAST.AST): boolean => {
  const decoded = SchemaAST.toType(ast)
  const representation = decoded.annotations?.representation as { readonly id?: unknown } | undefined
  return decoded._tag === "Declaration" && representation?.id === "effect/schema/Duration"
}

// ---------------------------------------------------------------------------
// Leaves
// ---------------------------------------------------------------------------

const describe = (description: string, defaultValue: unknown): string =>
  `${description} Default: ${typeof defaultValue === "string" ? defaultValue : JSON.stringify(defaultValue)}.`

/**
 * One option: `schema` with what it does and its default (in its encoded form), as the
 * `description` and `default` annotations the JSON Schema shows and `defaultsOf` reads.
 *
 * @category constructors
 */
export const option = <S extends Schema.Top>(schema: S, description: string, defaultValue: S["Encoded"]): S["Rebuild"] =>
  schema.annotate({ description: describe(description, defaultValue), default: defaultValue })

/**
 * One duration option (see `Duration`), documented like `option`: its default is written as in a
 * config file (`"200 millis"`, `60000`).
 *
 * @category constructors
 */
export const duration = (description: string, defaultValue: number | string): typeof Duration =>
  durationWith({ description: `${describe(description, defaultValue)} ${durationHelp}`, default: defaultValue })

// ---------------------------------------------------------------------------
// Derived forms
// ---------------------------------------------------------------------------

type InputValue<A> = A extends Dur.Duration ? Dur.Input
  : A extends ReadonlyArray<unknown> ? A
  : A extends object ? Input<A>
  : A

/**
 * What code passes for options whose filled-in form is `T`: every field optional (nested ones
 * too), and a `Duration` field takes any `Duration.Input` (`"5 seconds"`, `Duration.seconds(5)`, millis).
 *
 * @category models
 */
export type Input<T> = { readonly [K in keyof T]?: InputValue<T[K]> | undefined }

const leaves = (ast: SchemaAST.AST): Record<string, unknown> => {
  const encoded: Record<string, unknown> = {}
  if (ast._tag !== "Objects") return encoded
  for (const property of ast.propertySignatures) {
    const name = String(property.name)
    encoded[name] = property.type._tag === "Objects"
      ? leaves(property.type)
      : SchemaAST.resolve(SchemaAST.toEncoded(property.type))?.default
  }
  return encoded
}

/**
 * The filled-in value a schema's `default` annotations describe, decoded (so a default that does
 * not decode, or a missing one, fails when the module defining the schema loads).
 *
 * @category constructors
 */
export const defaultsOf = <A, I>(schema: Schema.Codec<A, I>): A => Schema.decodeUnknownSync(schema)(leaves(schema.ast))

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !Dur.isDuration(value)

/**
 * Fills every field `input` leaves out from `base`, following `base`'s shape: nested options are
 * filled field by field, durations are read with `Duration.fromInputUnsafe`. Keys `base` does not
 * have are ignored.
 *
 * @category constructors
 */
export const fill = <T extends object>(input: Input<T> | undefined, base: T): T => {
  if (input === undefined) return base
  const given = input as Readonly<Record<string, unknown>>
  const filled: Record<string, unknown> = {}
  for (const [key, fallback] of Object.entries(base)) {
    const value = given[key]
    filled[key] = value === undefined
      ? fallback
      : Dur.isDuration(fallback)
      ? Dur.fromInputUnsafe(value as Dur.Input)
      : isPlainObject(fallback)
      ? fill(value as Input<object>, fallback)
      : value
  }
  return filled as T
}
