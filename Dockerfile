# One image for every Tessera process: the gateway, the example subgraphs and the compose step.
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY gateway ./gateway
COPY supergraph ./supergraph
COPY subgraphs ./subgraphs
COPY deploy ./deploy
USER node
EXPOSE 4000
ENTRYPOINT ["node", "bin/tessera.ts"]
CMD ["gateway", "--config", "deploy/tessera.docker.yaml"]
