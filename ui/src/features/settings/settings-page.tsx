import "../../components/form-styles.css";
import "./settings-page.css";

import { useState } from "react";

import { useChainNames } from "./api/get-chain-names";
import { useSettingFields } from "./api/get-setting-fields";
import { useSettings } from "./api/get-settings";
import { ReadOnlyBanner } from "./components/read-only-banner";
import { SavedNotice } from "./components/saved-notice";
import { SettingsForm } from "./components/settings-form";

export default function SettingsPage() {
  const fields = useSettingFields();
  const settings = useSettings();
  const chains = useChainNames();
  const [restartRequired, setRestartRequired] = useState<string[] | null>(null);
  const error = fields.error ?? settings.error;
  const readOnly = fields.data !== undefined && !fields.data.writable;

  return (
    <section>
      <h1>Settings</h1>
      <p className="muted">
        Every setting of the config file&apos;s <code>settings</code> section, with what it means.
        Saving writes only the settings you changed to the file (its comments stay) and applies
        them at once, except those marked &ldquo;applies after restart&rdquo;.
      </p>
      {(fields.isPending || settings.isPending) && error === null && <p>Loading settings…</p>}
      {error !== null && (
        <p className="form-error" role="alert">
          {error.message}
        </p>
      )}
      {readOnly && <ReadOnlyBanner reason={fields.data.readOnlyReason ?? "The config file cannot be written."} />}
      {restartRequired !== null && <SavedNotice restartRequired={restartRequired} />}
      {fields.data !== undefined && settings.data !== undefined && (
        <SettingsForm
          key={settings.data.etag ?? "unversioned"}
          fields={fields.data.fields}
          view={settings.data.data}
          etag={settings.data.etag}
          chains={chains.data ?? []}
          readOnly={readOnly}
          refreshing={settings.isFetching}
          pending={restartRequired ?? []}
          onSaved={setRestartRequired}
          onReadOnly={() => void fields.refetch()}
          onReload={() => {
            setRestartRequired(null);
            void settings.refetch();
            void chains.refetch();
          }}
        />
      )}
    </section>
  );
}
