"""CheckQuotas: compare the Service Quotas a run needs with what the account has."""
