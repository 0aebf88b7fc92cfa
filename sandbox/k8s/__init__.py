"""The Kubernetes testbed: real kube-apiserver + etcd + kube-controller-manager on loopback."""
