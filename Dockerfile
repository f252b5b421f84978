# Builds the isobar image (control plane, bootstrap and operator in one
# static binary). Not part of the tests.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /isobar ./cmd/isobar

FROM gcr.io/distroless/static:nonroot
COPY --from=build /isobar /isobar
USER 65532:65532
ENTRYPOINT ["/isobar"]
