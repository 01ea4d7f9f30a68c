import { contextBridge } from 'electron'

contextBridge.exposeInMainWorld('tunelab', { version: '0.1.0' })
