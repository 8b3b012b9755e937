"""DAX: the control plane's documents (clusters, parameter groups, subnet groups, events), each cluster's
listener, and the caches in front of the tables."""
