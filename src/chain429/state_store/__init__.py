"""The limit state every replica shares (`settings.stateStore`): Redis behind the tracker."""
