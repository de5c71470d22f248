"""The simulated ECS control plane: services, deployments and tasks that roll
out, fail and recover on a virtual clock, served through moto's ECS API."""
