"""The DAX control plane's operations (`X-Amz-Target: AmazonDAXV3.<Op>`)."""
