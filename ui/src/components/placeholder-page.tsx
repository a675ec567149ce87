interface PlaceholderPageProps {
  title: string;
  summary: string;
}

/** A page that is planned but not built yet: its title and what it will show. */
export function PlaceholderPage({ title, summary }: PlaceholderPageProps) {
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">{title}</h1>
      <p>{summary}</p>
      <p className="muted">This page is not built yet.</p>
    </section>
  );
}
