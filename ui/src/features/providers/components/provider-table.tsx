import { Fragment, useState } from "react";

import { TableScroll } from "../../../components/table-scroll";

import type { ProviderView } from "../api/provider-types";
import { useDeleteProvider } from "../api/delete-provider";
import { ProviderModels } from "./provider-models";

export interface ProviderTableProps {
  providers: ProviderView[];
  etag: string | null;
  onEdit: (provider: ProviderView) => void;
}

/** The provider's manual limits, each kept on one line. */
function Limits({ provider }: { provider: ProviderView }) {
  const limits = Object.entries(provider.rateLimits ?? {}).filter(([, value]) => value != null);
  if (limits.length === 0) {
    return "—";
  }
  return limits.map(([name, value], index) => (
    <Fragment key={name}>
      {index > 0 && ", "}
      <span className="nowrap">{`${name} ${value}`}</span>
    </Fragment>
  ));
}

export function ProviderTable({ providers, etag, onEdit }: ProviderTableProps) {
  const [removing, setRemoving] = useState<string | null>(null);
  const [showing, setShowing] = useState<ReadonlySet<string>>(new Set());
  const toggleModels = (id: string) => {
    setShowing((current) => {
      const next = new Set(current);
      if (!next.delete(id)) {
        next.add(id);
      }
      return next;
    });
  };
  const remove = useDeleteProvider();
  return (
    <>
      <TableScroll label="Providers">
        <table className="form-table" aria-label="Providers">
          <thead>
            <tr>
              <th>Id</th>
              <th>Name</th>
              <th>Type</th>
              <th>Keys</th>
              <th>Base URL</th>
              <th>Limits</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {providers.map((provider) => (
              <Fragment key={provider.id}>
              <tr>
                <td>{provider.id}</td>
                <td>{provider.name === "" ? <span className="muted">{provider.id}</span> : provider.name}</td>
                <td className="nowrap">{provider.type}</td>
                <td>
                  {provider.keys.map((key, index) => (
                    <Fragment key={key.label}>
                      {index > 0 && " "}
                      <span className="nowrap">{key.label}</span>
                    </Fragment>
                  ))}
                </td>
                <td className="provider-url">
                  {provider.baseUrl ?? <span className="muted">type default</span>}
                </td>
                <td>
                  <Limits provider={provider} />
                </td>
                <td>
                  <div className="form-actions">
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
                        <button
                          type="button"
                          aria-label={`Models of ${provider.id}`}
                          aria-expanded={showing.has(provider.id)}
                          aria-controls={`models-of-${provider.id}`}
                          onClick={() => { toggleModels(provider.id); }}
                        >
                          Models
                        </button>
                        <button type="button" onClick={() => { onEdit(provider); }}>
                          Edit {provider.id}
                        </button>
                        <button type="button" onClick={() => { setRemoving(provider.id); }}>
                          Remove {provider.id}
                        </button>
                      </>
                    )}
                  </div>
                </td>
              </tr>
              {showing.has(provider.id) && (
                <tr id={`models-of-${provider.id}`}>
                  <td colSpan={7}>
                    <ProviderModels provider={provider.id} />
                  </td>
                </tr>
              )}
              </Fragment>
            ))}
          </tbody>
        </table>
      </TableScroll>
      {remove.error !== null && (
        <p className="form-error" role="alert">
          {remove.error.message}
        </p>
      )}
    </>
  );
}
