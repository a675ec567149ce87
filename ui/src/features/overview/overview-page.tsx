import { PlaceholderPage } from "../../components/placeholder-page";

export default function OverviewPage() {
  return (
    <PlaceholderPage
      title="Overview"
      summary="Totals, charts per provider and chain, and the free capacity left in each chain."
    />
  );
}
