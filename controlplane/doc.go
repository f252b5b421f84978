// Package controlplane holds Compile, the whole pure pipeline that every
// command and the live server share: source.Index → graph.Build →
// translate.Translate → snapshot.Consistent, returning the xDS resources,
// the status of every object and the findings. Its subpackages hold the
// stages; the API types of the objects read are under apis/.
package controlplane
