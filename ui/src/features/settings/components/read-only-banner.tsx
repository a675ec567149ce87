/** Why the settings cannot be changed now (the proxy's own words say how to make them
 * changeable), shown above the disabled form. */
export function ReadOnlyBanner({ reason }: { reason: string }) {
  return (
    <div className="settings-banner" role="status" aria-labelledby="settings-read-only-title">
      <h2 id="settings-read-only-title">Read-only: changes cannot be saved</h2>
      <p>{reason}</p>
      <p>
        The values below are those the proxy runs with. Once the config file is writable, reload
        this page to edit them; to change them now, edit the file and send the proxy a SIGHUP (or
        restart it).
      </p>
    </div>
  );
}
