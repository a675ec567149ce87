import { Link } from "react-router";

/** What to do when nothing has been recorded yet: where to send a first request. */
export function GettingStarted({ chain }: { chain: string }) {
  const baseUrl = `${window.location.origin}/v1`;
  return (
    <section className="notice getting-started" aria-labelledby="getting-started-title">
      <h3 id="getting-started-title">No requests in this range yet</h3>
      <p>
        Point any OpenAI client at <code>{baseUrl}</code> with one of your client API keys and use
        a chain&apos;s name as the model, for example:
      </p>
      <pre>
        <code>{`curl ${baseUrl}/chat/completions \\
  -H "Authorization: Bearer $API_KEY" -H "Content-Type: application/json" \\
  -d '{"model": "${chain}", "messages": [{"role": "user", "content": "Hello"}]}'`}</code>
      </pre>
      <p>
        Or try a prompt on the <Link to="/playground">Playground</Link>. The figures and charts here
        update as requests arrive.
      </p>
    </section>
  );
}
