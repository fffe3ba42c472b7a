/**
 * The one error a bad config produces: every problem found, each with the path it is at
 * (`providers[1].model: missing`), gathered from the file, the environment and the schema in a
 * single pass so a user fixes everything in one round.
 *
 * Messages never carry a value from the config: schema issues are formatted without their input
 * (a mistyped `apiKey` must not echo the key), and the error's `stack` is its message, so a
 * printed failure shows the problems rather than a trace through the loader.
 *
 * @since 0.1.0
 */
import { Schema, SchemaAST, SchemaIssue } from "effect"
import { providerUnionIdentifier } from "./ConfigSchema.ts"

/**
 * One problem. `path` is where in the config (`policy.deadline`), or the file's path for a file
 * that cannot be read or parsed (then `line`/`column` say where, 1-based).
 *
 * @category models
 */
export const Problem = Schema.Struct({
  path: Schema.String,
  message: Schema.String,
  line: Schema.optionalKey(Schema.Int),
  column: Schema.optionalKey(Schema.Int)
})

/** @category models */
export type Problem = typeof Problem.Type

/** Renders one problem as one line. @category formatting */
export const formatProblem = (problem: Problem): string => {
  if (problem.line === undefined) return problem.path === "" ? problem.message : `${problem.path}: ${problem.message}`
  return `${problem.path}:${problem.line}${problem.column === undefined ? "" : `:${problem.column}`}: ${problem.message}`
}

/**
 * A config could not be loaded. `problems` lists every problem; `file` is the config file when
 * one was read.
 *
 * @category errors
 */
export class FlexiConfigError extends Schema.TaggedError<FlexiConfigError>()("FlexiConfigError", {
  problems: Schema.Array(Problem),
  file: Schema.optionalKey(Schema.String)
}) {
  constructor(props: { readonly problems: ReadonlyArray<Problem>; readonly file?: string }) {
    super(props)
    // A config error is the user's to fix, not ours to debug: print the problems, not a trace.
    Object.defineProperty(this, "stack", { value: `FlexiConfigError: ${this.message}`, configurable: true, writable: true })
  }

  override get message(): string {
    const count = this.problems.length
    const header = `Invalid FlexiAI configuration${this.file === undefined ? "" : ` (${this.file})`}: ` +
      `${count} problem${count === 1 ? "" : "s"}`
    return [header, ...this.problems.map((problem) => `  - ${formatProblem(problem)}`)].join("\n")
  }
}

/** `["providers", 1, "model"]` → `providers[1].model`. @category formatting */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (text, segment) =>
      typeof segment === "number" ? `${text}[${segment}]` : text === "" ? String(segment) : `${text}.${String(segment)}`,
    ""
  )

/** The kinds a provider union accepts, from its members' `kind` literals. */
const kindList = (union: SchemaAST.AST): string => {
  if (union._tag !== "Union") return "a registered provider kind"
  const kinds = union.types.flatMap((member) => {
    if (member._tag !== "Objects") return []
    const kind = member.propertySignatures.find((property) => property.name === "kind")?.type
    return kind?._tag === "Literal" ? [JSON.stringify(kind.literal)] : []
  })
  return kinds.length === 0 ? "a registered provider kind (none is registered)" : kinds.join(" | ")
}

const expectedOf = (ast: SchemaAST.AST): string | undefined => {
  const expected = ast.annotations?.expected
  return typeof expected === "string" ? expected : undefined
}

const articles: Record<string, string> = {
  String: "a string",
  Number: "a number",
  Boolean: "a boolean",
  Objects: "an object",
  Arrays: "an array"
}

const describe = (ast: SchemaAST.AST): string => {
  const expected = expectedOf(ast)
  if (expected !== undefined) return expected
  const article = articles[ast._tag]
  if (article !== undefined) return article
  if (ast._tag === "Union") return ast.types.map(describe).join(" | ")
  if (ast._tag === "Literal") return JSON.stringify(ast.literal)
  return "a valid value"
}

const messageOf = (issue: SchemaIssue.Issue): string | undefined => {
  const message = "annotations" in issue ? issue.annotations?.message : undefined
  return typeof message === "string" ? message : undefined
}

const leafMessage = (issue: SchemaIssue.Leaf): string => {
  const message = messageOf(issue)
  if (typeof message === "string") return message
  switch (issue._tag) {
    case "MissingKey":
      return "missing"
    case "UnexpectedKey":
      return "unknown key"
    case "InvalidType": {
      return `expected ${describe(issue.ast)}`
    }
    case "InvalidValue":
      return "invalid value"
    case "Forbidden":
      return "not allowed"
    case "OneOf":
      return "matches more than one alternative"
  }
}

/**
 * Flattens a schema issue into problems, without the input values. A failing duration or
 * provider union reports one line (what was expected), not one per alternative.
 *
 * @category formatting
 */
export const problemsFromIssue = (issue: SchemaIssue.Issue): Array<Problem> => {
  const problems: Array<Problem> = []
  const walk = (node: SchemaIssue.Issue, path: ReadonlyArray<PropertyKey>, override: string | undefined): void => {
    switch (node._tag) {
      case "Pointer":
        return walk(node.issue, [...path, ...node.path], override)
      case "Encoding":
        return walk(node.issue, path, override)
      case "Filter": {
        const message = node.filter.annotations?.message ?? messageOf(node.issue)
        const expected = node.filter.annotations?.expected
        const text = typeof message === "string"
          ? message
          : typeof expected === "string"
          ? `expected ${expected}`
          : undefined
        return walk(node.issue, path, override ?? text)
      }
      case "Composite":
        for (const child of node.issues) walk(child, path, override)
        return
      case "AnyOf": {
        // No candidate matched the discriminator: the `kind` itself is wrong or missing.
        if (node.ast.annotations?.title === providerUnionIdentifier && node.issues.length === 0) {
          problems.push({ path: formatPath([...path, "kind"]), message: `expected one of ${kindList(node.ast)}` })
          return
        }
        const expected = expectedOf(node.ast)
        if (expected !== undefined || node.issues.length === 0) {
          problems.push({ path: formatPath(path), message: `expected ${expected ?? describe(node.ast)}` })
          return
        }
        for (const child of node.issues) walk(child, path, override)
        return
      }
      default:
        problems.push({ path: formatPath(path), message: override ?? leafMessage(node) })
    }
  }
  walk(issue, [], undefined)
  return problems
}
