import { PlaceholderPage } from "../../components/placeholder-page";

export default function ChainsPage() {
  return (
    <PlaceholderPage
      title="Chains"
      summary="Create, edit and reorder chains and their entries."
    />
  );
}
