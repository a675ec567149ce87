import { PlaceholderPage } from "../../components/placeholder-page";

export default function RequestsPage() {
  return (
    <PlaceholderPage
      title="Requests"
      summary="The live request log, each request with its attempts and their reasons."
    />
  );
}
