import { Countdown } from "../../../components/countdown";
import type { ChainOutlook } from "../../../api/ratelimit-types";

/** What a chain would use now: its entry's `provider/model`; with none free, when the soonest
 * frees up (counting down); with none that frees up by itself, what to look at. */
export function WouldUse({ chain }: { chain: ChainOutlook }) {
  if (chain.next !== null) {
    return (
      <span className="would-use">
        {chain.next.provider}/{chain.next.model}
      </span>
    );
  }
  if (chain.freeAt !== null) {
    return (
      <span>
        none free; next frees in <Countdown until={chain.freeAt} />
      </span>
    );
  }
  return <span>none will free by itself: check the providers</span>;
}

/** One chain: its name (the default one marked), the entry it would use now, its queue. */
export function ChainOutlookRow({ chain }: { chain: ChainOutlook }) {
  return (
    <tr>
      <td>
        {chain.name}
        {chain.isDefault ? <span className="muted"> (default)</span> : null}
      </td>
      <td>
        <WouldUse chain={chain} />
      </td>
      <td>{chain.queued}</td>
    </tr>
  );
}
