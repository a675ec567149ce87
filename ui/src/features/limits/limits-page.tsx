import { PlaceholderPage } from "../../components/placeholder-page";

export default function LimitsPage() {
  return (
    <PlaceholderPage
      title="Limits"
      summary="Every limit with what remains, what is in flight and when it resets; cooldowns and queues."
    />
  );
}
