import { useMutation } from "@tanstack/react-query";
import { useState, type SubmitEvent } from "react";
import { useLocation, useNavigate, useSearchParams } from "react-router";

import { useApiClient } from "../../lib/api-context";
import { ApiError } from "../../lib/api-error";
import { NEXT_PARAM } from "../../lib/paths";

/** Why the user is here, when they were sent back: `navigate(SIGN_IN_PATH, {state: {message}})`. */
function messageOf(state: unknown): string | null {
  if (typeof state === "object" && state !== null && "message" in state) {
    const { message } = state;
    return typeof message === "string" ? message : null;
  }
  return null;
}

/** Only a path of this site: `?next=//elsewhere` must not send a key's owner away. */
function safeNext(next: string | null): string {
  return next !== null && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export default function SignInPage() {
  const client = useApiClient();
  const navigate = useNavigate();
  const location = useLocation();
  const [params] = useSearchParams();
  const [key, setKey] = useState("");
  const signIn = useMutation({
    mutationFn: (candidate: string) => client.signIn(candidate),
    onSuccess: () => {
      void navigate(safeNext(params.get(NEXT_PARAM)), { replace: true });
    },
  });
  const sentBack = messageOf(location.state);
  const refusal = signIn.error === null ? null : describe(signIn.error);

  function submit(event: SubmitEvent<HTMLFormElement>) {
    event.preventDefault();
    signIn.mutate(key.trim());
  }

  return (
    <main className="sign-in">
      <form className="sign-in-form" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to 429chain</h1>
        {sentBack !== null && refusal === null && (
          <p className="notice" role="status">
            {sentBack}
          </p>
        )}
        <label htmlFor="admin-key">Admin key</label>
        <input
          id="admin-key"
          name="admin-key"
          type="password"
          autoComplete="off"
          required
          value={key}
          onChange={(event) => {
            setKey(event.target.value);
          }}
          aria-invalid={refusal !== null}
          aria-describedby="admin-key-help"
        />
        <p id="admin-key-help" className="muted">
          A key from <code>settings.adminKeys</code> in the config file. It is kept in this tab
          only, until you sign out or close it.
        </p>
        {refusal !== null && (
          <p className="error" role="alert">
            {refusal}
          </p>
        )}
        <button type="submit" disabled={signIn.isPending || key.trim() === ""}>
          {signIn.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

function describe(error: Error): string {
  if (error instanceof ApiError && error.status === 401) {
    return `This key was refused: ${error.message}`;
  }
  return error.message;
}
