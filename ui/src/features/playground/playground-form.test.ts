import { describe, expect, it } from "vitest";

import { EMPTY_VALUES, fieldOfParam, toPromptBody, type PlaygroundValues } from "./playground-form";

function values(overrides: Partial<PlaygroundValues>): PlaygroundValues {
  return { ...EMPTY_VALUES, chain: "default", prompt: "Hi?", ...overrides };
}

describe("the playground form", () => {
  it("sends a prompt to a chain, streamed", () => {
    expect(toPromptBody(values({}))).toEqual({
      ok: true,
      body: { chain: "default", prompt: "Hi?", stream: true },
    });
  });

  it("sends to one entry: its provider and model", () => {
    const result = toPromptBody(values({ target: "entry", provider: "groq", model: " llama " }));

    expect(result).toEqual({
      ok: true,
      body: { provider: "groq", model: "llama", prompt: "Hi?", stream: true },
    });
  });

  it("turns a system prompt into messages and passes the numbers given", () => {
    const given = values({ system: "Be brief.", maxTokens: "20", temperature: "0.5" });
    const result = toPromptBody(given);

    expect(result).toEqual({
      ok: true,
      body: {
        chain: "default",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hi?" },
        ],
        maxTokens: 20,
        temperature: 0.5,
        stream: true,
      },
    });
  });

  it("says what is wrong with each field", () => {
    const result = toPromptBody(
      values({ target: "entry", prompt: "  ", maxTokens: "1.5", temperature: "3", provider: "" }),
    );

    expect(result).toEqual({
      ok: false,
      errors: {
        prompt: "Write a prompt.",
        maxTokens: "A whole number, 1 or more.",
        temperature: "A number from 0 to 2.",
        provider: "Pick a provider.",
        model: "Pick or type a model.",
      },
    });
  });

  it("needs a chain when sending to a chain, and refuses words for numbers", () => {
    const result = toPromptBody(values({ chain: "", maxTokens: "many" }));

    expect(result).toEqual({
      ok: false,
      errors: { chain: "Pick a chain.", maxTokens: "A whole number, 1 or more." },
    });
  });

  it("points an API error's param at the field it names", () => {
    expect(fieldOfParam("provider")).toBe("provider");
    expect(fieldOfParam("maxTokens")).toBe("maxTokens");
    expect(fieldOfParam("messages[0].content")).toBe("system");
    expect(fieldOfParam("messages[1].content")).toBe("prompt");
    expect(fieldOfParam("colour")).toBeNull();
    expect(fieldOfParam(null)).toBeNull();
  });
});
