// The promise client per call (issue 11, item 10): `deadline` and `providers` reach the router,
// an `AbortSignal` interrupts a call and closes its request, and a stream iterator releases its
// connection when the loop leaves (`return()`), on abort, and when a dropped iterator is collected.
// Wire level: the MockProviderServer records when the client closed a connection it was answering.
import { type ProviderError, Router } from "@flexiai/core"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { assert, describe, it } from "vitest"
import * as FlexiAI from "../src/FlexiAI.ts"
import { serverPool, twoProviders } from "./helpers.ts"

const { start } = serverPool()

const oneProvider = (url: string): FlexiAI.Input => ({
  providers: [{ kind: "openai-compatible", name: "only", model: "mock-model", baseUrl: `${url}/v1` }],
  policy: { retry: { maxRetries: 0 } },
  logging: { level: "error" }
})

const rejection = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (error: unknown) => error)

const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 2))

/** Polls until `condition` holds (what it waits for is a socket event); fails after `turns` polls. */
const until = async (condition: () => boolean, what: string, turns = 2_500) => {
  for (let i = 0; i < turns; i++) {
    if (condition()) return
    await turn()
  }
  assert.fail(`never happened: ${what}`)
}

const closedByClient = (server: MockProviderServer.Handle) => () =>
  server.calls().length > 0 && server.calls().every((call) => call.clientClosedAt !== undefined)

describe("client.chat per call", () => {
  it("providers.only / avoid pick the providers; an unknown name rejects before any request", async () => {
    const primary = await start({ fallback: MockProviderServer.text("from primary") })
    const backup = await start({ fallback: MockProviderServer.text("from backup") })
    const client = FlexiAI.make(twoProviders(primary.url, backup.url))
    try {
      assert.strictEqual((await client.chat("hi", { providers: { only: ["backup"] } })).provider, "backup")
      assert.strictEqual((await client.chat("hi", { providers: { avoid: ["primary"] } })).provider, "backup")
      assert.strictEqual(primary.calls().length, 0)
      assert.strictEqual((await client.chat("hi")).provider, "primary")

      const unknown = await rejection(client.chat("hi", { providers: { only: ["openai"] } }))
      assert.instanceOf(unknown, Router.UnknownProvider)
      const none = await rejection(client.chat("hi", { providers: { only: ["primary"], avoid: ["primary"] } }))
      assert.instanceOf(none, Router.InvalidCallOptions)
      assert.strictEqual(backup.calls().length + primary.calls().length, 3)
    } finally {
      await client.dispose()
    }
  })

  it("a per-call deadline ends a call the policy would let run", async () => {
    const server = await start({ fallback: MockProviderServer.hang() })
    const client = FlexiAI.make(oneProvider(server.url))
    try {
      const error = await rejection(client.chat("hi", { deadline: "50 millis" }))
      assert.strictEqual((error as { _tag?: string })._tag, "AllProvidersFailed")
      assert.isTrue((error as { deadlineExceeded?: boolean }).deadlineExceeded)
      await until(closedByClient(server), "the timed-out request is closed")
      const bad = await rejection(client.chat("hi", { deadline: 0 }))
      assert.instanceOf(bad, Router.InvalidCallOptions)
    } finally {
      await client.dispose()
    }
  })

  it("an aborted signal interrupts the call, closes its request and rejects with signal.reason", async () => {
    const server = await start({ fallback: MockProviderServer.hang() })
    const client = FlexiAI.make(oneProvider(server.url))
    try {
      const controller = new AbortController()
      const options: FlexiAI.CallOptions = { signal: controller.signal }
      const pending = rejection(client.chat("hi", options))
      await until(() => server.calls().length === 1, "the request reached the server")
      controller.abort()
      const error = await pending
      assert.instanceOf(error, DOMException)
      assert.strictEqual((error as DOMException).name, "AbortError")
      assert.strictEqual(error, controller.signal.reason)
      await until(closedByClient(server), "the server sees the request closed")
      // the interrupted attempt is not the provider's failure: nothing counts against it
      const [status] = await client.status()
      assert.deepStrictEqual([status?.requests, status?.failures, status?.lastError], [1, 0, undefined])

      // a reason of the caller's own is what the promise rejects with
      const mine = new AbortController()
      const own = rejection(client.chat("hi", { signal: mine.signal }))
      await until(() => server.calls().length === 2, "the second request reached the server")
      mine.abort(new Error("user left"))
      assert.strictEqual(((await own) as Error).message, "user left")

      // already aborted: rejects at once, no request
      const early = await rejection(client.chat("hi", { signal: AbortSignal.abort() }))
      assert.strictEqual((early as DOMException).name, "AbortError")
      assert.strictEqual(server.calls().length, 2)

      // a signal never aborted changes nothing
      server.setScript({ fallback: MockProviderServer.text("fine") })
      assert.strictEqual((await client.chat("hi", { signal: new AbortController().signal })).text, "fine")
    } finally {
      await client.dispose()
    }
  })
})

describe("client.stream per call", () => {
  it("break in for-await closes the request at once (return())", async () => {
    const server = await start({ fallback: MockProviderServer.stallAfter(1, "one two three four") })
    const client = FlexiAI.make(oneProvider(server.url))
    try {
      for await (const part of client.stream("go")) {
        if (part.type === "text-delta") break
      }
      await until(closedByClient(server), "the server sees the stream's request closed")
      // a throw in the loop body closes it too
      const thrown = await rejection((async () => {
        for await (const part of client.stream("go")) {
          if (part.type === "text-delta") throw new Error("consumer failed")
        }
      })())
      assert.strictEqual((thrown as Error).message, "consumer failed")
      await until(() => server.calls().length === 2 && closedByClient(server)(), "the second request is closed")
    } finally {
      await client.dispose()
    }
  })

  it("abort closes the request; the pending next() and every later one reject with signal.reason", async () => {
    const server = await start({ fallback: MockProviderServer.stallAfter(1, "one two three four") })
    const client = FlexiAI.make(oneProvider(server.url))
    try {
      const controller = new AbortController()
      const iterator = client.stream("go", { signal: controller.signal })[Symbol.asyncIterator]()
      const first = await iterator.next()
      assert.isFalse(first.done)
      const pending = rejection(iterator.next()) // the server sends nothing more
      controller.abort()
      const error = await pending
      assert.strictEqual((error as DOMException).name, "AbortError")
      await until(closedByClient(server), "the server sees the stream's request closed")
      assert.strictEqual(((await rejection(iterator.next())) as DOMException).name, "AbortError", "never reads as done")

      const early = client.stream("go", { signal: AbortSignal.abort() })[Symbol.asyncIterator]()
      assert.strictEqual(((await rejection(early.next())) as DOMException).name, "AbortError")
      assert.strictEqual(server.calls().length, 1, "no request for a signal aborted before the stream started")
    } finally {
      await client.dispose()
    }
  })

  it("per-call providers and deadline reach a stream", async () => {
    const primary = await start({ fallback: MockProviderServer.text("from primary") })
    const backup = await start({ fallback: MockProviderServer.text("from backup") })
    const client = FlexiAI.make(twoProviders(primary.url, backup.url))
    try {
      let text = ""
      for await (const part of client.stream("hi", { providers: { avoid: ["primary"] }, deadline: "1 minute" })) {
        if (part.type === "text-delta") text += part.text
      }
      assert.strictEqual(text, "from backup")
      assert.strictEqual(primary.calls().length, 0)
      const error = await rejection((async () => {
        for await (const _ of client.stream("hi", { providers: { only: ["nobody"] } })) { /* nothing arrives */ }
      })())
      assert.instanceOf(error, Router.UnknownProvider)
    } finally {
      await client.dispose()
    }
  })

  it("an iterator dropped without return() releases its connection once collected", async () => {
    setFlagsFromString("--expose-gc")
    const gc = runInNewContext("gc") as () => void
    const server = await start({ fallback: MockProviderServer.stallAfter(1, "one two three four") })
    const client = FlexiAI.make(oneProvider(server.url))
    try {
      const readOneAndDrop = async () => {
        const iterator = client.stream("go")[Symbol.asyncIterator]()
        assert.isFalse((await iterator.next()).done)
      }
      await readOneAndDrop()
      await turn()
      assert.isFalse(closedByClient(server)(), "still open while not collected")
      await until(() => {
        gc()
        return closedByClient(server)()
      }, "the collected iterator's request is closed")
    } finally {
      await client.dispose()
    }
  })

  it("a stream nobody reads is released at its call's deadline; the next read gets the deadline's error", async () => {
    const server = await start({ fallback: MockProviderServer.stallAfter(1, "one two three four") })
    const check = async (client: FlexiAI.Client, options: FlexiAI.CallOptions | undefined, deadline: string) => {
      const before = server.calls().length
      const iterator = client.stream("go", options)[Symbol.asyncIterator]()
      const first = await iterator.next()
      assert.deepStrictEqual(first.value, { type: "text-delta", text: "one " })
      // held, not read: the router's deadline applies to reads, and none is made
      await until(() => server.calls().length === before + 1 && closedByClient(server)(), "released at the deadline")
      const error = await rejection(iterator.next())
      const reason = (error as ProviderError.ProviderError).reason
      assert.strictEqual(reason._tag, "StreamInterrupted")
      assert.strictEqual(reason._tag === "StreamInterrupted" && reason.cause, "DeadlineExceeded")
      assert.strictEqual(reason._tag === "StreamInterrupted" && reason.partialText, "one ")
      assert.include(reason.message, deadline)
      assert.isTrue((await iterator.next()).done, "after its error the iterator is over")
    }
    const perCall = FlexiAI.make(oneProvider(server.url))
    try {
      await check(perCall, { deadline: "100 millis" }, "100ms")
    } finally {
      await perCall.dispose()
    }
    const policy = FlexiAI.make({ ...oneProvider(server.url), policy: { retry: { maxRetries: 0 }, deadline: "150 millis" } })
    try {
      await check(policy, undefined, "150ms")
    } finally {
      await policy.dispose()
    }
  })

  it("dispose() closes a stream that is still open", async () => {
    const server = await start({ fallback: MockProviderServer.stallAfter(1, "one two three four") })
    const client = FlexiAI.make(oneProvider(server.url))
    const iterator = client.stream("go")[Symbol.asyncIterator]()
    assert.isFalse((await iterator.next()).done)
    await client.dispose()
    await until(closedByClient(server), "dispose closed the open stream's request")
  })
})

describe("the READMEs' per-call examples", () => {
  it("run as written against providers named openai and vllm", async () => {
    const openai = await start({ fallback: MockProviderServer.text("from openai") })
    const vllm = await start({ fallback: MockProviderServer.text("from vllm") })
    const client = FlexiAI.make({
      providers: [
        { kind: "openai-compatible", name: "openai", model: "mock-model", baseUrl: `${openai.url}/v1`, priority: 1 },
        { kind: "openai-compatible", name: "vllm", model: "mock-model", baseUrl: `${vllm.url}/v1`, priority: 2 }
      ],
      logging: { level: "error" }
    })
    try {
      // README.md, "Or pass the config in code"
      const quick = await client.chat("hi", { deadline: "5 seconds", providers: { avoid: ["openai"] }, signal: AbortSignal.timeout(8_000) })
      assert.strictEqual(quick.provider, "vllm")
      // packages/flexiai/README.md, "Code not written in Effect"
      const controller = new AbortController()
      const answer = await client.chat("summarize this", {
        deadline: "10 seconds",
        providers: { avoid: ["openai"] },
        signal: controller.signal
      })
      assert.strictEqual(answer.text, "from vllm")
      let text = ""
      for await (const part of client.stream("go on", { signal: AbortSignal.timeout(30_000) })) {
        if (part.type === "text-delta") text += part.text
      }
      assert.strictEqual(text, "from openai")
      assert.strictEqual(openai.calls().length, 1)
    } finally {
      await client.dispose()
    }
  })
})
