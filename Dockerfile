# The quorumchain image: the static binary that `make image` builds (cgo on,
# libsecp256k1 linked in) and nothing else. No base image is pulled.
# Build context: the directory holding that binary (bin/static).
FROM scratch
COPY quorumchain /quorumchain
# A non-root user; a compose testnet gives the node homes to it.
USER 10001:10001
EXPOSE 26656 26657
ENTRYPOINT ["/quorumchain"]
CMD ["--home", "/var/lib/quorumchain", "node"]
