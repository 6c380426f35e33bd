"""PlanDeployment: turn the training results into models and production variants for one endpoint."""
