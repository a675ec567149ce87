import { useState } from "react";

import type { ProviderView } from "../api/provider-types";
import { useDeleteProvider } from "../api/delete-provider";

export interface ProviderTableProps {
  providers: ProviderView[];
  etag: string | null;
  onEdit: (provider: ProviderView) => void;
}

function limitsOf(provider: ProviderView): string {
  const limits = Object.entries(provider.rateLimits ?? {}).filter(([, value]) => value != null);
  return limits.length === 0 ? "—" : limits.map(([name, value]) => `${name} ${value}`).join(", ");
}

export function ProviderTable({ providers, etag, onEdit }: ProviderTableProps) {
  const [removing, setRemoving] = useState<string | null>(null);
  const remove = useDeleteProvider();
  return (
    <>
      <table className="form-table" aria-label="Providers">
        <thead>
          <tr>
            <th>Id</th>
            <th>Name</th>
            <th>Type</th>
            <th>Keys</th>
            <th>Base URL</th>
            <th>Limits</th>
            <th aria-label="Actions" />
          </tr>
        </thead>
        <tbody>
          {providers.map((provider) => (
            <tr key={provider.id}>
              <td>{provider.id}</td>
              <td>{provider.name === "" ? <span className="muted">{provider.id}</span> : provider.name}</td>
              <td>{provider.type}</td>
              <td>{provider.keys.map((key) => key.label).join(" ")}</td>
              <td>{provider.baseUrl ?? <span className="muted">type default</span>}</td>
              <td>{limitsOf(provider)}</td>
              <td className="form-actions">
                {removing === provider.id ? (
                  <>
                    <span>Remove {provider.id}?</span>
                    <button
                      type="button"
                      className="danger"
                      onClick={() => { remove.mutate(
                          { id: provider.id, etag },
                          { onSuccess: () => { setRemoving(null); } },
                        ); }
                      }
                    >
                      Yes, remove {provider.id}
                    </button>
                    <button type="button" onClick={() => { setRemoving(null); }}>
                      Keep
                    </button>
                  </>
                ) : (
                  <>
                    <button type="button" onClick={() => { onEdit(provider); }}>
                      Edit {provider.id}
                    </button>
                    <button type="button" onClick={() => { setRemoving(provider.id); }}>
                      Remove {provider.id}
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {remove.error !== null && (
        <p className="form-error" role="alert">
          {remove.error.message}
        </p>
      )}
    </>
  );
}
