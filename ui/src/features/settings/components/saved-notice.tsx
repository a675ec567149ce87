/** What the last save did: saved and live, or saved and waiting for a restart (the settings the
 * proxy reads only when it starts, as the answer's `restartRequired` names them). */
export function SavedNotice({ restartRequired }: { restartRequired: string[] }) {
  const names = restartRequired.map((path) => path.replace(/^settings\./, ""));
  return (
    <div className="settings-saved" role="status">
      {names.length === 0 ? (
        <p>Saved to the config file; the proxy uses the new settings from the next request.</p>
      ) : (
        <p>
          Saved to the config file. {names.join(", ")} {names.length === 1 ? "applies" : "apply"}{" "}
          after a restart: the proxy runs with the previous value until it is restarted; the
          other changes are live now.
        </p>
      )}
    </div>
  );
}
