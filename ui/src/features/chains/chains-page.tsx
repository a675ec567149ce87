import "../../components/form-styles.css";

import { useState } from "react";

import { useChains } from "../../api/get-chains";
import { ChainCard } from "./components/chain-card";
import { NewChainForm } from "./components/new-chain-form";

export default function ChainsPage() {
  const chains = useChains();
  const [creating, setCreating] = useState(false);
  const list = chains.data?.data.chains ?? [];
  const etag = chains.data?.etag ?? null;

  return (
    <section>
      <h1>Chains</h1>
      <p className="muted">
        Each chain tries its entries in order. Drag an entry by its handle, or focus the handle and
        press Space, the arrow keys and Space again, to reorder it.
      </p>
      {chains.isPending && <p>Loading chains…</p>}
      {chains.error !== null && (
        <p className="form-error" role="alert">
          {chains.error.message}
        </p>
      )}
      {chains.isSuccess && list.length === 0 && (
        <p className="form-empty">No chain yet. Create one from the providers you added.</p>
      )}
      {list.map((chain) => (
        <ChainCard key={chain.name} chain={chain} etag={etag} />
      ))}
      {creating ? (
        <NewChainForm etag={etag} onDone={() => { setCreating(false); }} />
      ) : (
        <button type="button" onClick={() => { setCreating(true); }}>
          New chain
        </button>
      )}
    </section>
  );
}
