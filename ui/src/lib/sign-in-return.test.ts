import { describe, expect, it } from "vitest";

import { signInReturn } from "./sign-in-return";

describe("the way back to sign-in after a refused key", () => {
  it("goes to sign-in, set to return to the page and its query", () => {
    const page = { pathname: "/requests", search: "?chain=fast" };

    const back = signInReturn(page, "Incorrect API key provided.");

    expect(back?.to).toBe("/sign-in?next=%2Frequests%3Fchain%3Dfast");
  });

  it("says the key was refused, with the API's message", () => {
    const back = signInReturn({ pathname: "/", search: "" }, "Incorrect API key provided.");

    expect(back?.state.message).toBe(
      "The proxy refused your admin key: Incorrect API key provided. Sign in again to return to this page.",
    );
  });

  it("stays put on the sign-in page, so it never becomes its own next page", () => {
    expect(signInReturn({ pathname: "/sign-in", search: "?next=%2Flimits" }, "refused")).toBeNull();
  });
});
