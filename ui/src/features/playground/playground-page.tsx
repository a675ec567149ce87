import "../../components/form-styles.css";
import "./playground.css";

import { useState, type SubmitEvent } from "react";
import { Link } from "react-router";

import { useChains } from "../../api/get-chains";
import { useProbeChain } from "./api/probe-chain";
import { useStreamPrompt } from "./api/stream-prompt";
import { ProbeTable } from "./components/probe-table";
import { PromptFields } from "./components/prompt-fields";
import { RunOutput } from "./components/run-output";
import { TargetFields } from "./components/target-fields";
import {
  EMPTY_VALUES,
  fieldOfParam,
  toPromptBody,
  type FieldErrors,
  type PlaygroundValues,
} from "./playground-form";
import { isRunning } from "./prompt-run";

export default function PlaygroundPage() {
  const chains = useChains();
  const list = chains.data?.data.chains ?? [];
  const defaultChain = list.find((chain) => chain.isDefault)?.name ?? list[0]?.name ?? "";
  const [values, setValues] = useState<PlaygroundValues>(EMPTY_VALUES);
  const [errors, setErrors] = useState<FieldErrors>({});
  const { run, send, stop } = useStreamPrompt();
  const probe = useProbeChain();
  const running = isRunning(run);
  // Until the user picks one, the chain is the default one.
  const shown = values.chain === "" ? { ...values, chain: defaultChain } : values;

  function change(update: Partial<PlaygroundValues>) {
    setValues({ ...shown, ...update });
    setErrors({});
  }

  function submit(event: SubmitEvent<HTMLFormElement>) {
    event.preventDefault();
    const result = toPromptBody(shown);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    send(result.body);
  }

  function testEveryEntry() {
    const result = toPromptBody({ ...shown, target: "chain", prompt: shown.prompt || "-" });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    const prompt = shown.prompt.trim();
    probe.mutate({
      chain: shown.chain,
      ...(prompt === "" ? {} : { prompt }),
      ...(result.body.maxTokens === undefined ? {} : { maxTokens: result.body.maxTokens }),
    });
  }

  const apiField = fieldOfParam(run.error?.field ?? null);
  const shownErrors: FieldErrors =
    apiField !== null && run.error !== null && errors[apiField] === undefined
      ? { ...errors, [apiField]: run.error.message }
      : errors;

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Playground</h1>
      <p className="muted">
        Send a prompt through a chain or one entry and watch it stream, with the entry that served
        it and every attempt before. Test requests are recorded like any other, with an id starting
        with <code>test_</code>.
      </p>
      {chains.isPending && <p role="status">Loading chains…</p>}
      {chains.error !== null && (
        <p className="form-error" role="alert">
          {chains.error.message}
        </p>
      )}
      {chains.isSuccess && list.length === 0 && (
        <p className="form-empty">
          No chain yet. Add a provider on the <Link to="/providers">Providers</Link> page, then
          create a chain on the <Link to="/chains">Chains</Link> page; or send a prompt to one
          entry below.
        </p>
      )}
      <form
        className="form-panel playground-form"
        onSubmit={submit}
        noValidate
        aria-label="Send a prompt"
      >
        <TargetFields values={shown} chains={list} errors={shownErrors} onChange={change} />
        <PromptFields values={shown} errors={shownErrors} onChange={change} />
        <div className="form-actions">
          <button type="submit" disabled={running}>
            Send
          </button>
          <button type="button" onClick={stop} disabled={!running}>
            Stop
          </button>
          {shown.target === "chain" && (
            <button
              type="button"
              onClick={testEveryEntry}
              disabled={probe.isPending || shown.chain === ""}
            >
              Test every entry
            </button>
          )}
        </div>
      </form>
      <RunOutput run={run} />
      {probe.isPending && <p role="status">Testing every entry of {probe.variables.chain}…</p>}
      {probe.error !== null && (
        <p className="form-error" role="alert">
          {probe.error.message}
        </p>
      )}
      {probe.data !== undefined && <ProbeTable probe={probe.data} />}
    </section>
  );
}
