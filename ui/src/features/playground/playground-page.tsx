import { PlaceholderPage } from "../../components/placeholder-page";

export default function PlaygroundPage() {
  return (
    <PlaceholderPage
      title="Playground"
      summary="Send a prompt through a chain or one entry and watch every attempt."
    />
  );
}
