import { PlaceholderPage } from "../../components/placeholder-page";

export default function ProvidersPage() {
  return (
    <PlaceholderPage
      title="Providers"
      summary="Add, edit and remove providers and their keys, limits and models."
    />
  );
}
