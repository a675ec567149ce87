export function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (message === undefined) {
    return null;
  }
  return (
    <p id={id} className="form-error" role="alert">
      {message}
    </p>
  );
}
