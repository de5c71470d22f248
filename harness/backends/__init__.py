"""Where AWS answers come from: embedded moto + simulator, or `harness serve`."""
