import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import * as BaseUrl from "../src/BaseUrl.ts"

const decode = Schema.decodeUnknownExit(BaseUrl.BaseUrl)

describe("BaseUrl", () => {
  it("accepts http(s) URLs with a path", () => {
    for (const url of ["https://api.openai.com/v1", "http://127.0.0.1:8000/v1/", "https://x.services.ai.azure.com/models"]) {
      assert.isUndefined(BaseUrl.problem(url), url)
      assert.strictEqual(decode(url)._tag, "Success", url)
    }
  })

  it("refuses what is not an http(s) URL, credentials, a query and a fragment, without repeating the URL", () => {
    const secret = "sk-canary-0123456789"
    for (const url of ["not a url", "ftp://files.example/v1", "file:///etc/passwd", `https://u:${secret}@h.example/v1`, `https://h.example/v1?api-key=${secret}`, "https://h.example/v1#x"]) {
      const problem = BaseUrl.problem(url)
      assert.isString(problem, url)
      assert.notInclude(problem!, secret)
      assert.strictEqual(decode(url)._tag, "Failure", url)
    }
  })

  it("splits a query off so paths go before it, and names its values as secrets", () => {
    assert.deepStrictEqual(BaseUrl.split("https://h.example/v1/?key=abc&b=2"), {
      base: "https://h.example/v1",
      params: [["key", "abc"], ["b", "2"]]
    })
    assert.deepStrictEqual(BaseUrl.split("https://h.example/v1//"), { base: "https://h.example/v1", params: [] })
    assert.includeMembers([...BaseUrl.secretsOf("https://me:pa%24s@h.example/v1?key=sk-1234")], ["me", "pa$s", "sk-1234"])
  })
})
