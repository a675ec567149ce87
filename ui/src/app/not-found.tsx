import { Link } from "react-router";

export function NotFound() {
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">No such page</h1>
      <p>
        The dashboard has no page here. <Link to="/">Go to the overview</Link>.
      </p>
    </section>
  );
}
