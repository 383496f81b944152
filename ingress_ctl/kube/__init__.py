"""The Kubernetes API edge: the client, leader election, Events and Ingress status publishing."""
