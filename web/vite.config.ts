import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The built files are embedded into the ocular binary and served from "/", so every URL is
// relative and nothing is fetched from any other host.
export default defineConfig({
  plugins: [svelte()],
  base: './',
  build: {
    outDir: process.env.OCULAR_WEB_OUT_DIR || 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
